import PatternCLI

await PatternCommand.main()
