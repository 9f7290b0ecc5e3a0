from kizuna.cli import main

main()
