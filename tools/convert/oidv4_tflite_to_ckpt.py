from ssdlite.commands.convert.oidv4 import main

main()
