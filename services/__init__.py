"""Jiandu (监督): the services of the cadre-supervision case and complaints system."""
