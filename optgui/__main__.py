import sys

from optgui.cli import main

sys.exit(main())
