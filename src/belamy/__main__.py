"""`python -m belamy ...` (also what `torchrun ... -m belamy train ...` runs)."""

from belamy.cli.main import main

if __name__ == "__main__":
    main()
