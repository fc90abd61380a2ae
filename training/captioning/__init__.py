"""Agentic captioning of training samples: an orchestrator gathers evidence, a captioner writes candidate captions,
a verification agent rejects captions whose claims the evidence does not support, and an evaluator keeps the best."""
