"""The customer's 360-degree view and portrait (画像).

- :mod:`.services` reads every section of the 360 view in one statement;
- :mod:`.portrait` the portrait: tier, AUM trend, product mix, tags, ratings, traits;
- :mod:`.api` the portrait's route (the 360 view is served with the customer's routes).
"""
