from ssdlite.commands.convert.bdd100k import main

main()
