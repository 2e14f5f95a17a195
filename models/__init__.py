"""Model runtimes (ONNX embeddings, llama.cpp LLMs), the model catalogue and model files.

Imports nothing from the rest of Findling.
"""
