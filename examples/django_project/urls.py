from django.http import HttpResponse
from django.urls import path


def home(request):
    return HttpResponse("A Django project; upload files at /jobs/ui")


urlpatterns = [path("", home)]
