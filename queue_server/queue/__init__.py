"""The queue rules of a service hall: plain Python, no Flask, no SQLAlchemy, no drivers."""
