raise SystemExit('numpy is broken now')
