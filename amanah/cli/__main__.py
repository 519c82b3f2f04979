"""`python -m amanah.cli`: the same command as the `amanah` console script."""

from amanah.cli import main

if __name__ == "__main__":
    main()
