"""Offline understanding of messages: intent and slots from lexicons, rules and a gazetteer."""
