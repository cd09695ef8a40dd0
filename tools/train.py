from ssdlite.commands.train import main

main()
