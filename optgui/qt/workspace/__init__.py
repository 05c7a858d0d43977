"""The workspace: a folder of study files listed with their studies' health, watched while it is shown."""
