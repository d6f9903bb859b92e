import reflex as rx

class S(rx.State):
    n: int = 0
    lang: str = rx.LocalStorage("en", name="rxportal_lang")
    @rx.event
    def inc(self):
        self.n += 1

def index():
    return rx.vstack(rx.heading("hi"), rx.text(S.n), rx.button("Add", on_click=S.inc), rx.text(S.lang))

app = rx.App()
app.add_page(index, route="/")
