from ssdlite.commands.browse import main

main()
