"""The model-language frontend: Brian 2's equation, statement and expression syntax parsed with
a Lark grammar into typed, unit-checked objects (`Equations`, statements, expressions)."""
