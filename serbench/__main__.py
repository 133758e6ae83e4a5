from serbench.cli import main

main()
