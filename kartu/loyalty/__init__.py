"""Domain rules of Kartu: plain Python, no aiogram and no SQL."""
