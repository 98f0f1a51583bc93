from cloud.server import main

main()
