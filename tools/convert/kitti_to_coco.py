from ssdlite.commands.convert.kitti import main

main()
