from ssdlite.commands.track import main

main()
