"""The Fleet tab: monitoring a parallel run through its records, its panel, and the processes it starts."""
