"""Live use: frames sent as they are made (Live Link Face UDP, VMC/OSC, the browser viewer).

Only value encoders and a real-time loop live here; they import nothing heavy at load.
"""
