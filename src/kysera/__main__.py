from kysera.cli import main

main()
