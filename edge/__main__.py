from edge.launch import main

main()
