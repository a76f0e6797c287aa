from bankcrm.cli import main

main()
