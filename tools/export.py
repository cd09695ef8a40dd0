from ssdlite.commands.export import main

main()
