"""The workflow core: the vocabulary (states), the transition table and perform (transitions),
guard rules, effects, never-reused numbers (numbering) and the working-day calendar."""
