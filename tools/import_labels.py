from ssdlite.commands.import_labels import main

main()
