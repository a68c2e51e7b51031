"""Pure PyTorch + NumPy training: no web server, no database, no asyncio."""
