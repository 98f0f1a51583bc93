from edge.server import main

main()
