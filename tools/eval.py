from ssdlite.commands.eval import main

main()
