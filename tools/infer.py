from ssdlite.commands.predict import main

main()
