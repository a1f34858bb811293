"""What rule modules share: the rule decorator and registry, verdict helpers, the NSG evaluation
engine, the end-of-support table, the compliance frameworks and the rules-reference generator.

Nothing here is a rule, so rule discovery (``scanner.rules``) skips this package.
"""
