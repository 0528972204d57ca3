"""Orgs (agencies, wards, businesses, community teams) and the people who belong to them."""
