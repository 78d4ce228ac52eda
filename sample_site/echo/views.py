from django.shortcuts import render


def echo(request):
    """The tutorial's page: open it twice, run socket.emit("echo", "hello world") in one."""
    return render(request, "echo/index.html")
