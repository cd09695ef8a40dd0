from ssdlite.commands.prelabel import main

main()
