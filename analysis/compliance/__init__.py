"""Contact compliance: the rules of SPEC section 2 as configuration, the engine and the audit.

`rules.load_rules()` reads the rule set, `engine.find_breaches(con, rules)` finds every
(contact, rule) breach, `engine.refresh(con)` stores them for the dashboard.
"""
