from ssdlite.commands.frames import main

main()
