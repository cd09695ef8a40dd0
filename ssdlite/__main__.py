"""python -m ssdlite COMMAND: the `ssdlite` console command, where its script is not on PATH."""

from ssdlite.commands import main

if __name__ == "__main__":
    main()
