import sys

from rxportal.cli import main

sys.exit(main())
