from ssdlite.commands.benchmark import main

main()
