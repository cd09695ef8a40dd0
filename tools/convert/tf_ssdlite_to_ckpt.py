from ssdlite.commands.convert.tf_ssdlite import main

main()
