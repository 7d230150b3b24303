import sys

from tuner.cli.dispatch import main

sys.exit(main())
