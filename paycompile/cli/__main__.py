import sys

from paycompile.cli import main

sys.exit(main())
