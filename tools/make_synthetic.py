from ssdlite.commands.make_synthetic import main

main()
