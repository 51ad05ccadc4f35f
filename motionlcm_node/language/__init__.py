"""Reading commands: free-form text to a known action and the caption the generator is given, or a refusal.

``phrases`` names the actions and what the models cannot do; ``interpreter`` grounds commands on
them with MiniLM; ``phrase_vectors`` reads and writes the shipped ``models/language`` folder.
"""
