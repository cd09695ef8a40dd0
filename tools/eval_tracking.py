from ssdlite.commands.eval_tracking import main

main()
