import sys

from verm.cli import main

sys.exit(main())
