from django.urls import path

urlpatterns: list = []  # partner API views: see studio/api.py
