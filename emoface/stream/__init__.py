"""Live: the WebSocket server (``emoface serve``) and live outputs.

Light on import: the server (:mod:`.server`, which needs websockets) and the engines are
loaded by the commands that use them.
"""
