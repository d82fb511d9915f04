package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/portico-dev/portico/plugins/loyalty/points"
)

// The portal tells the app the user's language (the exchange's locale):
// pt-BR, es or en. Pages shown before a launch (errors, the about page)
// follow the browser's Accept-Language instead. Brazilian Portuguese is
// the default.

var messages = map[string]map[string]string{
	"pt-BR": {
		"app.title":                 "Programa de pontos",
		"about":                     "Este é o programa de pontos da empresa. Abra-o pelo menu do portal.",
		"nav.label":                 "Seções do programa de pontos",
		"nav.customers":             "Clientes",
		"nav.settings":              "Regras",
		"nav.shops":                 "Lojas e PDVs",
		"nav.imports":               "Importar CSV",
		"points.one":                "%s ponto",
		"points.other":              "%s pontos",
		"me.title":                  "Meus pontos",
		"me.hello":                  "Olá, %s",
		"me.balance":                "Seu saldo",
		"me.expiring":               "%s vencem nos próximos 30 dias (os primeiros em %s).",
		"me.expiring_no":            "Nenhum ponto vence nos próximos 30 dias.",
		"me.card":                   "Seu cartão fidelidade",
		"me.card_help":              "Mostre este código no caixa para ganhar ou trocar pontos.",
		"me.qr":                     "Código QR do cartão fidelidade %s",
		"me.rule":                   "Você ganha 1 ponto a cada %s em compras.",
		"history.title":             "Extrato",
		"history.empty":             "Nenhuma movimentação ainda. Seus pontos aparecem aqui depois da primeira compra.",
		"history.empty_s":           "Nenhuma movimentação ainda.",
		"history.older":             "Movimentações mais antigas",
		"history.newest":            "Voltar às mais recentes",
		"col.date":                  "Data",
		"col.kind":                  "Movimento",
		"col.points":                "Pontos",
		"col.details":               "Detalhes",
		"col.actor":                 "Quem fez",
		"kind.earn":                 "Pontos ganhos",
		"kind.redeem":               "Resgate",
		"kind.expire":               "Pontos expirados",
		"kind.adjust":               "Ajuste",
		"d.purchase":                "Compra de %s",
		"d.receipt":                 "Cupom %s",
		"d.store":                   "Loja: %s",
		"d.reason":                  "Motivo: %s",
		"d.expires":                 "Vencem em %s",
		"d.expired":                 "Validade encerrada",
		"d.system":                  "Sistema (vencimento)",
		"d.import":                  "Importação de arquivo por %s",
		"d.api":                     "Caixa (API): %s",
		"staff.title":               "Atendimento",
		"search.label":              "Buscar cliente",
		"search.help":               "Nome, e-mail, telefone, CPF ou código do cartão (PT-…).",
		"search.submit":             "Buscar",
		"search.none":               "Nenhum cliente encontrado para “%s”.",
		"search.results":            "Clientes encontrados",
		"scan.button":               "Ler o QR do cartão com a câmera",
		"scan.window":               "Ler o QR com a câmera (abre em nova janela)",
		"scan.stop":                 "Parar a câmera",
		"scan.title":                "Ler o cartão fidelidade",
		"scan.help":                 "Aponte a câmera para o código QR do cliente. Sem câmera, digite o código impresso abaixo do QR.",
		"scan.nocamera":             "Este navegador não lê códigos QR pela câmera. Digite o código do cartão.",
		"scan.error":                "Não foi possível usar a câmera. Digite o código do cartão.",
		"scan.video":                "Imagem da câmera",
		"c.code":                    "Cartão",
		"c.email":                   "E-mail",
		"c.phone":                   "Telefone",
		"c.document":                "CPF/CNPJ",
		"c.since":                   "Cliente desde",
		"c.portal":                  "Acesso pelo portal",
		"c.portal_yes":              "Já abriu o programa pelo portal",
		"c.portal_no":               "Ainda não abriu pelo portal",
		"c.balance":                 "Saldo",
		"c.back":                    "Voltar à busca",
		"earn.title":                "Dar pontos",
		"earn.mode":                 "Como calcular",
		"earn.m.purchase":           "Pelo valor da compra",
		"earn.m.points":             "Pontos diretamente",
		"earn.amount":               "Valor da compra (R$)",
		"earn.amount_h":             "Ex.: 123,45. Regra atual: 1 ponto a cada %s, %s.",
		"earn.min_h":                "Compra mínima: %s.",
		"earn.points":               "Pontos (quando diretamente)",
		"earn.receipt":              "Número do cupom ou nota (opcional)",
		"earn.reason":               "Motivo (opcional)",
		"earn.submit":               "Dar pontos",
		"earn.done_buy":             "Compra de %s: %s creditados. Novo saldo: %s.",
		"earn.done":                 "%s creditados. Novo saldo: %s.",
		"shop.label":                "Loja",
		"shop.none":                 "Sem loja (atendimento pelo portal)",
		"spend.title":               "Resgatar ou descontar pontos",
		"spend.kind":                "Tipo",
		"spend.k.redeem":            "Resgate (troca por prêmio ou desconto)",
		"spend.k.adjust":            "Ajuste (correção de saldo)",
		"spend.points":              "Pontos",
		"spend.reason":              "Motivo",
		"spend.reason_h":            "Obrigatório num ajuste. Ex.: troca por vale-presente.",
		"spend.submit":              "Descontar pontos",
		"spend.done":                "%s descontados. Novo saldo: %s.",
		"set.title":                 "Regras do programa",
		"set.current":               "Regra atual: 1 ponto a cada %s, %s.",
		"set.ratio":                 "Valor de compra que vale 1 ponto (R$)",
		"set.ratio_h":               "“1 ponto a cada R$ X”. Com 10,00, uma compra de R$ 123,45 dá 12 pontos.",
		"set.rounding":              "Arredondamento da fração de ponto",
		"set.r.down":                "Para baixo (padrão): R$ 129,90 dá 12 pontos",
		"set.r.nearest":             "Para o mais próximo: R$ 125,00 dá 13 pontos, R$ 124,99 dá 12",
		"set.r.up":                  "Para cima: qualquer fração vale mais 1 ponto",
		"set.rounding_h":            "Por padrão a fração é descartada (arredondamento para baixo): o cliente ganha um ponto a cada valor completo, nunca um ponto que não pagou. Escolha outra regra só se o regulamento do programa prometer outra coisa.",
		"set.min":                   "Compra mínima para ganhar pontos (R$)",
		"set.min_h":                 "0 ou vazio: qualquer compra ganha pontos.",
		"set.expiry":                "Validade dos pontos (dias)",
		"set.expiry_h":              "0: os pontos não vencem. Com validade, cada crédito vence N dias depois de ganho; os resgates consomem primeiro os pontos que vencem antes; o vencimento roda a cada minuto e aparece no extrato como “Pontos expirados”. Mudar a validade vale para os próximos créditos.",
		"set.save":                  "Salvar regras",
		"set.saved":                 "Regras salvas.",
		"r.down":                    "arredondando para baixo",
		"r.nearest":                 "arredondando para o mais próximo",
		"r.up":                      "arredondando para cima",
		"shops.title":               "Lojas e pontos de venda",
		"shops.help":                "Cada loja ou PDV chama a API de pontos com o próprio token. O token aparece uma única vez: copie-o para o sistema do PDV. Revogar desliga o token na hora.",
		"shops.name":                "Nome da loja ou PDV",
		"shops.create":              "Criar token",
		"shops.created":             "Token da loja “%s”. Copie agora: ele não será mostrado de novo.",
		"shops.token":               "Token",
		"shops.none":                "Nenhuma loja cadastrada.",
		"shops.list":                "Lojas cadastradas",
		"shops.c.name":              "Nome",
		"shops.c.created":           "Criada em",
		"shops.c.by":                "Por",
		"shops.c.status":            "Situação",
		"shops.active":              "Ativa",
		"shops.revoked":             "Revogada em %s",
		"shops.revoke":              "Revogar o token de %s",
		"shops.revoke_s":            "Revogar",
		"shops.done":                "Token da loja “%s” revogado.",
		"imp.title":                 "Importar pontos (CSV)",
		"imp.help":                  "Colunas: nome (obrigatória), email (obrigatória), sobrenome, documento, pontos. Cabeçalhos em português ou espanhol (nombres, apellidos, documento_de_identidad, puntos), separados por vírgula ou ponto e vírgula, em UTF-8 ou Latin-1. Linhas com erro são listadas no relatório e as demais são aplicadas. Enviar o mesmo arquivo de novo não conta os pontos duas vezes.",
		"imp.file":                  "Arquivo CSV (até %s MB)",
		"imp.submit":                "Enviar e importar",
		"imp.past":                  "Importações anteriores",
		"imp.none":                  "Nenhuma importação ainda.",
		"imp.c.file":                "Arquivo",
		"imp.c.by":                  "Enviado por",
		"imp.c.when":                "Quando",
		"imp.c.status":              "Situação",
		"imp.c.rows":                "Linhas",
		"imp.s.queued":              "Na fila",
		"imp.s.running":             "Processando",
		"imp.s.done":                "Concluída",
		"imp.s.failed":              "Falhou",
		"imp.progress":              "Progresso da importação",
		"imp.counted":               "%s de %s linhas processadas.",
		"imp.summary":               "%s aplicadas, %s com erro, %s ignoradas (já importadas).",
		"imp.report":                "Baixar o relatório por linha (CSV)",
		"imp.open":                  "Ver a importação de %s",
		"imp.already":               "Este arquivo já foi importado (mesmo conteúdo, em %s). Nada foi contado de novo.",
		"imp.started":               "Arquivo recebido. A importação roda em segundo plano; acompanhe abaixo.",
		"imp.mail":                  "Quando terminar, o relatório também vai por e-mail para %s.",
		"imp.off":                   "A importação de arquivos não está disponível nesta instalação.",
		"imp.back":                  "Voltar às importações",
		"err.title":                 "Não foi possível concluir",
		"err.check":                 "Confira o formulário:",
		"err.insufficient":          "Saldo insuficiente: o cliente tem %s.",
		"err.amount.required":       "Informe o valor da compra.",
		"err.amount.invalid":        "Valor inválido: use reais e centavos, como 123,45.",
		"err.amount.range":          "Valor fora do limite permitido (até R$ 10.000.000,00).",
		"err.below_minimum":         "A compra é menor que o mínimo do programa (%s) e não gera pontos.",
		"err.zero_points":           "Esta compra não gera pontos pela regra atual (1 ponto a cada %s).",
		"err.points":                "Informe um número inteiro de pontos entre 1 e 10.000.000.",
		"err.reason.required":       "Informe o motivo do ajuste.",
		"err.text.long":             "Texto longo demais (no máximo 200 caracteres).",
		"err.text.invalid":          "O texto contém caracteres não permitidos.",
		"err.shop":                  "Escolha uma loja da lista.",
		"err.ratio":                 "Informe um valor entre R$ 0,01 e R$ 100.000,00.",
		"err.rounding":              "Escolha uma das regras de arredondamento.",
		"err.min":                   "Informe um valor entre R$ 0,00 e R$ 10.000.000,00.",
		"err.expiry":                "Informe um número inteiro de dias entre 0 e 3650.",
		"err.shop.name":             "Informe o nome da loja (até 200 caracteres).",
		"err.upload.missing":        "Escolha um arquivo CSV para enviar.",
		"err.upload.too_large":      "Arquivo grande demais: o limite é de %s MB.",
		"err.upload.email":          "Para importar, o portal precisa informar o seu e-mail a este aplicativo (o relatório é enviado a você). Peça ao administrador do portal para liberar o campo e-mail no acesso do plugin.",
		"err.upload.failed":         "Não foi possível receber o arquivo. Tente de novo.",
		"err.file":                  "O arquivo foi recusado e nada foi alterado: %s",
		"err.file.generic":          "o arquivo não pôde ser lido como CSV.",
		"err.file.empty":            "o arquivo está vazio.",
		"err.file.too_large":        "o arquivo passa do limite de tamanho. Divida-o em arquivos menores.",
		"err.file.binary":           "o arquivo não é um texto CSV. Exporte a planilha como CSV.",
		"err.file.spreadsheet":      "o arquivo é uma planilha (.xlsx, .xls ou .ods), não um CSV. No Excel ou LibreOffice, use “Salvar como” › CSV.",
		"err.file.utf16":            "o arquivo está em UTF-16 (“Texto Unicode”). Salve-o como “CSV UTF-8” ou CSV comum.",
		"err.file.invalid_encoding": "a codificação do texto não é UTF-8 nem Latin-1 (Windows-1252).",
		"err.file.malformed_header": "a linha de cabeçalho não é CSV válido.",
		"err.file.missing_column":   "falta a coluna obrigatória %s (nome e email são obrigatórias).",
		"err.file.duplicate_column": "a coluna “%s” aparece mais de uma vez no cabeçalho.",
		"err.file.no_rows":          "o arquivo tem o cabeçalho mas nenhuma linha de dados.",
		"error.title":               "Não foi possível abrir o programa de pontos",
		"error.token_expired":       "O link de acesso expirou. Volte ao portal e abra o programa de pontos de novo.",
		"error.token_used":          "Este link de acesso já foi usado. Por segurança, cada abertura vale uma vez só: volte ao portal e abra o programa de novo.",
		"error.token_invalid":       "O link de acesso não é válido. Volte ao portal e abra o programa de pontos de novo.",
		"error.wrong_audience":      "Este link de acesso foi emitido para outro aplicativo.",
		"error.invalid_client":      "O programa de pontos não está configurado corretamente: o portal recusou as credenciais dele. Avise o suporte.",
		"error.token_missing":       "Nenhum link de acesso foi recebido. Abra o programa de pontos pelo menu do portal.",
		"error.session_ended":       "Sua sessão terminou. Volte ao portal e abra o programa de pontos de novo.",
		"error.portal_unreachable":  "Não conseguimos falar com o portal agora. Tente de novo em instantes.",
		"error.not_configured":      "O programa de pontos ainda não tem credenciais configuradas. Avise o suporte.",
		"error.forbidden":           "Esta página é só para a equipe da empresa.",
		"error.not_found":           "Página não encontrada.",
		"error.bad_origin":          "Pedido recusado: ele não veio de uma página deste programa. Recarregue a página e tente de novo.",
		"error.conflict":            "Já existe outro cadastro no programa de pontos com o seu e-mail ou documento. Procure o atendimento da empresa.",
		"error.unavailable":         "O programa de pontos está indisponível agora. Tente de novo em instantes.",
		"error.code":                "Código: %s",
	},
	"es": {
		"app.title":                 "Programa de puntos",
		"about":                     "Este es el programa de puntos de la empresa. Ábralo desde el menú del portal.",
		"nav.label":                 "Secciones del programa de puntos",
		"nav.customers":             "Clientes",
		"nav.settings":              "Reglas",
		"nav.shops":                 "Tiendas y puntos de venta",
		"nav.imports":               "Importar CSV",
		"points.one":                "%s punto",
		"points.other":              "%s puntos",
		"me.title":                  "Mis puntos",
		"me.hello":                  "Hola, %s",
		"me.balance":                "Su saldo",
		"me.expiring":               "%s vencen en los próximos 30 días (los primeros el %s).",
		"me.expiring_no":            "Ningún punto vence en los próximos 30 días.",
		"me.card":                   "Su tarjeta de fidelidad",
		"me.card_help":              "Muestre este código en la caja para ganar o canjear puntos.",
		"me.qr":                     "Código QR de la tarjeta de fidelidad %s",
		"me.rule":                   "Usted gana 1 punto por cada %s en compras.",
		"history.title":             "Movimientos",
		"history.empty":             "Todavía no hay movimientos. Sus puntos aparecerán aquí después de la primera compra.",
		"history.empty_s":           "Todavía no hay movimientos.",
		"history.older":             "Movimientos anteriores",
		"history.newest":            "Volver a los más recientes",
		"col.date":                  "Fecha",
		"col.kind":                  "Movimiento",
		"col.points":                "Puntos",
		"col.details":               "Detalles",
		"col.actor":                 "Quién lo hizo",
		"kind.earn":                 "Puntos ganados",
		"kind.redeem":               "Canje",
		"kind.expire":               "Puntos vencidos",
		"kind.adjust":               "Ajuste",
		"d.purchase":                "Compra de %s",
		"d.receipt":                 "Comprobante %s",
		"d.store":                   "Tienda: %s",
		"d.reason":                  "Motivo: %s",
		"d.expires":                 "Vencen el %s",
		"d.expired":                 "Fin de la validez",
		"d.system":                  "Sistema (vencimiento)",
		"d.import":                  "Importación de archivo por %s",
		"d.api":                     "Caja (API): %s",
		"staff.title":               "Atención",
		"search.label":              "Buscar cliente",
		"search.help":               "Nombre, correo, teléfono, documento o código de la tarjeta (PT-…).",
		"search.submit":             "Buscar",
		"search.none":               "No se encontró ningún cliente para «%s».",
		"search.results":            "Clientes encontrados",
		"scan.button":               "Leer el QR de la tarjeta con la cámara",
		"scan.window":               "Leer el QR con la cámara (abre una ventana nueva)",
		"scan.stop":                 "Detener la cámara",
		"scan.title":                "Leer la tarjeta de fidelidad",
		"scan.help":                 "Apunte la cámara al código QR del cliente. Sin cámara, escriba el código impreso debajo del QR.",
		"scan.nocamera":             "Este navegador no lee códigos QR con la cámara. Escriba el código de la tarjeta.",
		"scan.error":                "No se pudo usar la cámara. Escriba el código de la tarjeta.",
		"scan.video":                "Imagen de la cámara",
		"c.code":                    "Tarjeta",
		"c.email":                   "Correo",
		"c.phone":                   "Teléfono",
		"c.document":                "Documento",
		"c.since":                   "Cliente desde",
		"c.portal":                  "Acceso por el portal",
		"c.portal_yes":              "Ya abrió el programa desde el portal",
		"c.portal_no":               "Todavía no lo abrió desde el portal",
		"c.balance":                 "Saldo",
		"c.back":                    "Volver a la búsqueda",
		"earn.title":                "Dar puntos",
		"earn.mode":                 "Cómo calcular",
		"earn.m.purchase":           "Por el importe de la compra",
		"earn.m.points":             "Puntos directamente",
		"earn.amount":               "Importe de la compra (R$)",
		"earn.amount_h":             "Ej.: 123,45. Regla actual: 1 punto por cada %s, %s.",
		"earn.min_h":                "Compra mínima: %s.",
		"earn.points":               "Puntos (si es directamente)",
		"earn.receipt":              "Número de comprobante (opcional)",
		"earn.reason":               "Motivo (opcional)",
		"earn.submit":               "Dar puntos",
		"earn.done_buy":             "Compra de %s: %s acreditados. Nuevo saldo: %s.",
		"earn.done":                 "%s acreditados. Nuevo saldo: %s.",
		"shop.label":                "Tienda",
		"shop.none":                 "Sin tienda (atención por el portal)",
		"spend.title":               "Canjear o descontar puntos",
		"spend.kind":                "Tipo",
		"spend.k.redeem":            "Canje (por un premio o descuento)",
		"spend.k.adjust":            "Ajuste (corrección del saldo)",
		"spend.points":              "Puntos",
		"spend.reason":              "Motivo",
		"spend.reason_h":            "Obligatorio en un ajuste. Ej.: canje por una tarjeta de regalo.",
		"spend.submit":              "Descontar puntos",
		"spend.done":                "%s descontados. Nuevo saldo: %s.",
		"set.title":                 "Reglas del programa",
		"set.current":               "Regla actual: 1 punto por cada %s, %s.",
		"set.ratio":                 "Importe de compra que vale 1 punto (R$)",
		"set.ratio_h":               "«1 punto por cada R$ X». Con 10,00, una compra de R$ 123,45 da 12 puntos.",
		"set.rounding":              "Redondeo de la fracción de punto",
		"set.r.down":                "Hacia abajo (predeterminado): R$ 129,90 da 12 puntos",
		"set.r.nearest":             "Al más cercano: R$ 125,00 da 13 puntos, R$ 124,99 da 12",
		"set.r.up":                  "Hacia arriba: cualquier fracción vale 1 punto más",
		"set.rounding_h":            "De forma predeterminada la fracción se descarta (redondeo hacia abajo): el cliente gana un punto por cada importe completo, nunca un punto que no pagó. Elija otra regla solo si el reglamento del programa promete otra cosa.",
		"set.min":                   "Compra mínima para ganar puntos (R$)",
		"set.min_h":                 "0 o vacío: cualquier compra gana puntos.",
		"set.expiry":                "Validez de los puntos (días)",
		"set.expiry_h":              "0: los puntos no vencen. Con validez, cada crédito vence N días después de ganado; los canjes consumen primero los puntos que vencen antes; el vencimiento se ejecuta cada minuto y aparece en los movimientos como «Puntos vencidos». Cambiar la validez afecta a los próximos créditos.",
		"set.save":                  "Guardar reglas",
		"set.saved":                 "Reglas guardadas.",
		"r.down":                    "redondeando hacia abajo",
		"r.nearest":                 "redondeando al más cercano",
		"r.up":                      "redondeando hacia arriba",
		"shops.title":               "Tiendas y puntos de venta",
		"shops.help":                "Cada tienda o punto de venta llama a la API de puntos con su propio token. El token se muestra una sola vez: cópielo en el sistema del punto de venta. Revocarlo lo desactiva al instante.",
		"shops.name":                "Nombre de la tienda o punto de venta",
		"shops.create":              "Crear token",
		"shops.created":             "Token de la tienda «%s». Cópielo ahora: no se mostrará de nuevo.",
		"shops.token":               "Token",
		"shops.none":                "No hay tiendas registradas.",
		"shops.list":                "Tiendas registradas",
		"shops.c.name":              "Nombre",
		"shops.c.created":           "Creada el",
		"shops.c.by":                "Por",
		"shops.c.status":            "Estado",
		"shops.active":              "Activa",
		"shops.revoked":             "Revocada el %s",
		"shops.revoke":              "Revocar el token de %s",
		"shops.revoke_s":            "Revocar",
		"shops.done":                "Token de la tienda «%s» revocado.",
		"imp.title":                 "Importar puntos (CSV)",
		"imp.help":                  "Columnas: nombres (obligatoria), email (obligatoria), apellidos, documento_de_identidad, puntos. Encabezados en español o portugués (nome, sobrenome, documento, pontos), separados por coma o punto y coma, en UTF-8 o Latin-1. Las filas con error se listan en el informe y las demás se aplican. Subir el mismo archivo otra vez no cuenta los puntos dos veces.",
		"imp.file":                  "Archivo CSV (hasta %s MB)",
		"imp.submit":                "Subir e importar",
		"imp.past":                  "Importaciones anteriores",
		"imp.none":                  "Todavía no hay importaciones.",
		"imp.c.file":                "Archivo",
		"imp.c.by":                  "Subido por",
		"imp.c.when":                "Cuándo",
		"imp.c.status":              "Estado",
		"imp.c.rows":                "Filas",
		"imp.s.queued":              "En cola",
		"imp.s.running":             "Procesando",
		"imp.s.done":                "Terminada",
		"imp.s.failed":              "Falló",
		"imp.progress":              "Progreso de la importación",
		"imp.counted":               "%s de %s filas procesadas.",
		"imp.summary":               "%s aplicadas, %s con error, %s omitidas (ya importadas).",
		"imp.report":                "Descargar el informe por fila (CSV)",
		"imp.open":                  "Ver la importación de %s",
		"imp.already":               "Este archivo ya se importó (mismo contenido, el %s). No se contó nada de nuevo.",
		"imp.started":               "Archivo recibido. La importación se ejecuta en segundo plano; siga su progreso abajo.",
		"imp.mail":                  "Al terminar, el informe también se enviará por correo a %s.",
		"imp.off":                   "La importación de archivos no está disponible en esta instalación.",
		"imp.back":                  "Volver a las importaciones",
		"err.title":                 "No se pudo completar",
		"err.check":                 "Revise el formulario:",
		"err.insufficient":          "Saldo insuficiente: el cliente tiene %s.",
		"err.amount.required":       "Indique el importe de la compra.",
		"err.amount.invalid":        "Importe no válido: use reales y centavos, como 123,45.",
		"err.amount.range":          "Importe fuera del límite permitido (hasta R$ 10.000.000,00).",
		"err.below_minimum":         "La compra es menor que el mínimo del programa (%s) y no genera puntos.",
		"err.zero_points":           "Esta compra no genera puntos con la regla actual (1 punto por cada %s).",
		"err.points":                "Indique un número entero de puntos entre 1 y 10.000.000.",
		"err.reason.required":       "Indique el motivo del ajuste.",
		"err.text.long":             "Texto demasiado largo (máximo 200 caracteres).",
		"err.text.invalid":          "El texto contiene caracteres no permitidos.",
		"err.shop":                  "Elija una tienda de la lista.",
		"err.ratio":                 "Indique un importe entre R$ 0,01 y R$ 100.000,00.",
		"err.rounding":              "Elija una de las reglas de redondeo.",
		"err.min":                   "Indique un importe entre R$ 0,00 y R$ 10.000.000,00.",
		"err.expiry":                "Indique un número entero de días entre 0 y 3650.",
		"err.shop.name":             "Indique el nombre de la tienda (hasta 200 caracteres).",
		"err.upload.missing":        "Elija un archivo CSV para subir.",
		"err.upload.too_large":      "Archivo demasiado grande: el límite es de %s MB.",
		"err.upload.email":          "Para importar, el portal debe informar su correo a esta aplicación (el informe se le envía a usted). Pida al administrador del portal que habilite el campo correo en el acceso del plugin.",
		"err.upload.failed":         "No se pudo recibir el archivo. Inténtelo de nuevo.",
		"err.file":                  "El archivo fue rechazado y no se cambió nada: %s",
		"err.file.generic":          "el archivo no se pudo leer como CSV.",
		"err.file.empty":            "el archivo está vacío.",
		"err.file.too_large":        "el archivo supera el límite de tamaño. Divídalo en archivos más pequeños.",
		"err.file.binary":           "el archivo no es un texto CSV. Exporte la planilla como CSV.",
		"err.file.spreadsheet":      "el archivo es una planilla (.xlsx, .xls u .ods), no un CSV. En Excel o LibreOffice, use «Guardar como» › CSV.",
		"err.file.utf16":            "el archivo está en UTF-16 («Texto Unicode»). Guárdelo como «CSV UTF-8» o CSV común.",
		"err.file.invalid_encoding": "la codificación del texto no es UTF-8 ni Latin-1 (Windows-1252).",
		"err.file.malformed_header": "la fila de encabezados no es CSV válido.",
		"err.file.missing_column":   "falta la columna obligatoria %s (nombres y email son obligatorias).",
		"err.file.duplicate_column": "la columna «%s» aparece más de una vez en los encabezados.",
		"err.file.no_rows":          "el archivo tiene encabezados pero ninguna fila de datos.",
		"error.title":               "No se pudo abrir el programa de puntos",
		"error.token_expired":       "El enlace de acceso venció. Vuelva al portal y abra el programa de puntos de nuevo.",
		"error.token_used":          "Este enlace de acceso ya se usó. Por seguridad, cada apertura vale una sola vez: vuelva al portal y abra el programa de nuevo.",
		"error.token_invalid":       "El enlace de acceso no es válido. Vuelva al portal y abra el programa de puntos de nuevo.",
		"error.wrong_audience":      "Este enlace de acceso se emitió para otra aplicación.",
		"error.invalid_client":      "El programa de puntos no está bien configurado: el portal rechazó sus credenciales. Avise al soporte.",
		"error.token_missing":       "No se recibió ningún enlace de acceso. Abra el programa de puntos desde el menú del portal.",
		"error.session_ended":       "Su sesión terminó. Vuelva al portal y abra el programa de puntos de nuevo.",
		"error.portal_unreachable":  "No pudimos comunicarnos con el portal. Inténtelo de nuevo en unos instantes.",
		"error.not_configured":      "El programa de puntos todavía no tiene credenciales configuradas. Avise al soporte.",
		"error.forbidden":           "Esta página es solo para el equipo de la empresa.",
		"error.not_found":           "Página no encontrada.",
		"error.bad_origin":          "Pedido rechazado: no vino de una página de este programa. Recargue la página e inténtelo de nuevo.",
		"error.conflict":            "Ya existe otro registro en el programa de puntos con su correo o documento. Contacte a la atención de la empresa.",
		"error.unavailable":         "El programa de puntos no está disponible ahora. Inténtelo de nuevo en unos instantes.",
		"error.code":                "Código: %s",
	},
	"en": {
		"app.title":                 "Loyalty points",
		"about":                     "This is the company's loyalty programme. Open it from the portal's menu.",
		"nav.label":                 "Loyalty programme sections",
		"nav.customers":             "Customers",
		"nav.settings":              "Rules",
		"nav.shops":                 "Stores and POS",
		"nav.imports":               "Import CSV",
		"points.one":                "%s point",
		"points.other":              "%s points",
		"me.title":                  "My points",
		"me.hello":                  "Hello, %s",
		"me.balance":                "Your balance",
		"me.expiring":               "%s expire in the next 30 days (the first on %s).",
		"me.expiring_no":            "No points expire in the next 30 days.",
		"me.card":                   "Your loyalty card",
		"me.card_help":              "Show this code at the counter to earn or redeem points.",
		"me.qr":                     "QR code of loyalty card %s",
		"me.rule":                   "You earn 1 point for every %s you spend.",
		"history.title":             "History",
		"history.empty":             "No movements yet. Your points show up here after your first purchase.",
		"history.empty_s":           "No movements yet.",
		"history.older":             "Older movements",
		"history.newest":            "Back to the newest",
		"col.date":                  "Date",
		"col.kind":                  "Movement",
		"col.points":                "Points",
		"col.details":               "Details",
		"col.actor":                 "Done by",
		"kind.earn":                 "Points earned",
		"kind.redeem":               "Redemption",
		"kind.expire":               "Points expired",
		"kind.adjust":               "Adjustment",
		"d.purchase":                "Purchase of %s",
		"d.receipt":                 "Receipt %s",
		"d.store":                   "Store: %s",
		"d.reason":                  "Reason: %s",
		"d.expires":                 "Expire on %s",
		"d.expired":                 "Validity ended",
		"d.system":                  "System (expiry)",
		"d.import":                  "File import by %s",
		"d.api":                     "Register (API): %s",
		"staff.title":               "Customer service",
		"search.label":              "Find a customer",
		"search.help":               "Name, e-mail, phone, CPF or card code (PT-…).",
		"search.submit":             "Search",
		"search.none":               "No customer found for “%s”.",
		"search.results":            "Customers found",
		"scan.button":               "Scan the card's QR with the camera",
		"scan.window":               "Scan the QR with the camera (opens a new window)",
		"scan.stop":                 "Stop the camera",
		"scan.title":                "Scan the loyalty card",
		"scan.help":                 "Point the camera at the customer's QR code. Without a camera, type the code printed under the QR.",
		"scan.nocamera":             "This browser cannot read QR codes with the camera. Type the card's code.",
		"scan.error":                "The camera could not be used. Type the card's code.",
		"scan.video":                "Camera image",
		"c.code":                    "Card",
		"c.email":                   "E-mail",
		"c.phone":                   "Phone",
		"c.document":                "CPF/CNPJ",
		"c.since":                   "Customer since",
		"c.portal":                  "Portal access",
		"c.portal_yes":              "Has opened the programme from the portal",
		"c.portal_no":               "Has not opened it from the portal yet",
		"c.balance":                 "Balance",
		"c.back":                    "Back to the search",
		"earn.title":                "Give points",
		"earn.mode":                 "How to compute",
		"earn.m.purchase":           "From the purchase amount",
		"earn.m.points":             "Points directly",
		"earn.amount":               "Purchase amount (R$)",
		"earn.amount_h":             "E.g. 123,45. Current rule: 1 point for every %s, %s.",
		"earn.min_h":                "Minimum purchase: %s.",
		"earn.points":               "Points (when directly)",
		"earn.receipt":              "Receipt number (optional)",
		"earn.reason":               "Reason (optional)",
		"earn.submit":               "Give points",
		"earn.done_buy":             "Purchase of %s: %s credited. New balance: %s.",
		"earn.done":                 "%s credited. New balance: %s.",
		"shop.label":                "Store",
		"shop.none":                 "No store (served through the portal)",
		"spend.title":               "Redeem or deduct points",
		"spend.kind":                "Kind",
		"spend.k.redeem":            "Redemption (for a reward or discount)",
		"spend.k.adjust":            "Adjustment (balance correction)",
		"spend.points":              "Points",
		"spend.reason":              "Reason",
		"spend.reason_h":            "Required for an adjustment. E.g. exchanged for a gift card.",
		"spend.submit":              "Deduct points",
		"spend.done":                "%s deducted. New balance: %s.",
		"set.title":                 "Programme rules",
		"set.current":               "Current rule: 1 point for every %s, %s.",
		"set.ratio":                 "Purchase amount worth 1 point (R$)",
		"set.ratio_h":               "“1 point for every R$ X”. With 10,00, a purchase of R$ 123,45 earns 12 points.",
		"set.rounding":              "Rounding of a fraction of a point",
		"set.r.down":                "Down (default): R$ 129,90 earns 12 points",
		"set.r.nearest":             "To the nearest: R$ 125,00 earns 13 points, R$ 124,99 earns 12",
		"set.r.up":                  "Up: any fraction earns 1 more point",
		"set.rounding_h":            "By default the fraction is dropped (rounding down): a customer earns a point for every full amount, never a point they did not pay for. Choose another rule only if the programme's terms promise something else.",
		"set.min":                   "Minimum purchase that earns points (R$)",
		"set.min_h":                 "0 or empty: every purchase earns points.",
		"set.expiry":                "Points validity (days)",
		"set.expiry_h":              "0: points never expire. With a validity, each credit expires N days after it was earned; redemptions consume the points that expire first; expiry runs every minute and shows in the history as “Points expired”. A change applies to future credits.",
		"set.save":                  "Save the rules",
		"set.saved":                 "Rules saved.",
		"r.down":                    "rounding down",
		"r.nearest":                 "rounding to the nearest",
		"r.up":                      "rounding up",
		"shops.title":               "Stores and points of sale",
		"shops.help":                "Each store or POS calls the points API with its own token. The token is shown once: copy it into the POS system. Revoking turns the token off at once.",
		"shops.name":                "Store or POS name",
		"shops.create":              "Create a token",
		"shops.created":             "Token of store “%s”. Copy it now: it will not be shown again.",
		"shops.token":               "Token",
		"shops.none":                "No stores yet.",
		"shops.list":                "Stores",
		"shops.c.name":              "Name",
		"shops.c.created":           "Created",
		"shops.c.by":                "By",
		"shops.c.status":            "Status",
		"shops.active":              "Active",
		"shops.revoked":             "Revoked on %s",
		"shops.revoke":              "Revoke the token of %s",
		"shops.revoke_s":            "Revoke",
		"shops.done":                "Token of store “%s” revoked.",
		"imp.title":                 "Import points (CSV)",
		"imp.help":                  "Columns: nome/nombres (required), email (required), sobrenome/apellidos, documento/documento_de_identidad, pontos/puntos. Headers in Portuguese or Spanish, separated by commas or semicolons, in UTF-8 or Latin-1. Rows with errors are listed in the report and the others are applied. Uploading the same file again never counts its points twice.",
		"imp.file":                  "CSV file (up to %s MB)",
		"imp.submit":                "Upload and import",
		"imp.past":                  "Past imports",
		"imp.none":                  "No imports yet.",
		"imp.c.file":                "File",
		"imp.c.by":                  "Uploaded by",
		"imp.c.when":                "When",
		"imp.c.status":              "Status",
		"imp.c.rows":                "Rows",
		"imp.s.queued":              "Queued",
		"imp.s.running":             "Running",
		"imp.s.done":                "Done",
		"imp.s.failed":              "Failed",
		"imp.progress":              "Import progress",
		"imp.counted":               "%s of %s rows processed.",
		"imp.summary":               "%s applied, %s with errors, %s skipped (already imported).",
		"imp.report":                "Download the per-row report (CSV)",
		"imp.open":                  "See the import of %s",
		"imp.already":               "This file was already imported (same content, on %s). Nothing was counted again.",
		"imp.started":               "File received. The import runs in the background; follow it below.",
		"imp.mail":                  "When it ends, the report is also e-mailed to %s.",
		"imp.off":                   "File imports are not available in this installation.",
		"imp.back":                  "Back to the imports",
		"err.title":                 "Could not complete",
		"err.check":                 "Check the form:",
		"err.insufficient":          "Insufficient balance: the customer has %s.",
		"err.amount.required":       "Enter the purchase amount.",
		"err.amount.invalid":        "Invalid amount: use reais and centavos, such as 123,45.",
		"err.amount.range":          "Amount out of the allowed range (up to R$ 10.000.000,00).",
		"err.below_minimum":         "The purchase is below the programme's minimum (%s) and earns no points.",
		"err.zero_points":           "This purchase earns no points under the current rule (1 point for every %s).",
		"err.points":                "Enter a whole number of points between 1 and 10,000,000.",
		"err.reason.required":       "Enter the reason for the adjustment.",
		"err.text.long":             "Text too long (at most 200 characters).",
		"err.text.invalid":          "The text contains characters that are not allowed.",
		"err.shop":                  "Choose a store from the list.",
		"err.ratio":                 "Enter an amount between R$ 0,01 and R$ 100.000,00.",
		"err.rounding":              "Choose one of the rounding rules.",
		"err.min":                   "Enter an amount between R$ 0,00 and R$ 10.000.000,00.",
		"err.expiry":                "Enter a whole number of days between 0 and 3650.",
		"err.shop.name":             "Enter the store's name (up to 200 characters).",
		"err.upload.missing":        "Choose a CSV file to upload.",
		"err.upload.too_large":      "File too large: the limit is %s MB.",
		"err.upload.email":          "To import, the portal must tell this app your e-mail (the report is sent to you). Ask the portal's administrator to grant the e-mail field in the plugin's access settings.",
		"err.upload.failed":         "The file could not be received. Try again.",
		"err.file":                  "The file was refused and nothing changed: %s",
		"err.file.generic":          "it could not be read as CSV.",
		"err.file.empty":            "the file is empty.",
		"err.file.too_large":        "the file is over the size limit. Split it into smaller files.",
		"err.file.binary":           "the file is not CSV text. Export the spreadsheet as CSV.",
		"err.file.spreadsheet":      "the file is a spreadsheet (.xlsx, .xls or .ods), not a CSV. In Excel or LibreOffice, use “Save as” › CSV.",
		"err.file.utf16":            "the file is UTF-16 (“Unicode text”). Save it as “CSV UTF-8” or plain CSV.",
		"err.file.invalid_encoding": "its text encoding is neither UTF-8 nor Latin-1 (Windows-1252).",
		"err.file.malformed_header": "the header line is not valid CSV.",
		"err.file.missing_column":   "the required column %s is missing (name and e-mail are required).",
		"err.file.duplicate_column": "the column “%s” appears more than once in the header.",
		"err.file.no_rows":          "the file has a header but no data rows.",
		"error.title":               "The loyalty programme could not be opened",
		"error.token_expired":       "The access link expired. Go back to the portal and open the loyalty programme again.",
		"error.token_used":          "This access link was already used. For your security each opening works once: go back to the portal and open the programme again.",
		"error.token_invalid":       "The access link is not valid. Go back to the portal and open the loyalty programme again.",
		"error.wrong_audience":      "This access link was issued for another app.",
		"error.invalid_client":      "The loyalty programme is misconfigured: the portal refused its credentials. Please tell support.",
		"error.token_missing":       "No access link was received. Open the loyalty programme from the portal's menu.",
		"error.session_ended":       "Your session ended. Go back to the portal and open the loyalty programme again.",
		"error.portal_unreachable":  "We cannot reach the portal right now. Try again in a moment.",
		"error.not_configured":      "The loyalty programme has no credentials yet. Please tell support.",
		"error.forbidden":           "This page is for the company's staff only.",
		"error.not_found":           "Page not found.",
		"error.bad_origin":          "Request refused: it did not come from a page of this programme. Reload the page and try again.",
		"error.conflict":            "Another loyalty record already has your e-mail or document. Please contact the company.",
		"error.unavailable":         "The loyalty programme is unavailable right now. Try again in a moment.",
		"error.code":                "Code: %s",
	},
}

// langs are the supported languages; the first is the default.
var langs = []string{"pt-BR", "es", "en"}

// pickLang maps a locale (pt-BR, es, en, or a browser's es-AR, en-GB, …)
// onto a supported language, pt-BR by default.
func pickLang(locale string) string {
	l := strings.ToLower(strings.TrimSpace(locale))
	switch {
	case strings.HasPrefix(l, "es"):
		return "es"
	case strings.HasPrefix(l, "en"):
		return "en"
	}
	return "pt-BR"
}

// langOf is the language of a page shown before a launch: the browser's
// first Accept-Language that we speak.
func langOf(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch l := strings.ToLower(tag); {
		case strings.HasPrefix(l, "pt"):
			return "pt-BR"
		case strings.HasPrefix(l, "es"):
			return "es"
		case strings.HasPrefix(l, "en"):
			return "en"
		}
	}
	return "pt-BR"
}

// translate returns the message key in lang, formatted with args; a
// missing message falls back to pt-BR, then to the key itself.
func translate(lang, key string, args ...any) string {
	m, ok := messages[lang][key]
	if !ok {
		if m, ok = messages["pt-BR"][key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// number writes n with the language's thousands separator.
func number(lang string, n int64) string {
	sep := "."
	if lang == "en" {
		sep = ","
	}
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pts writes "1 ponto", "1.234 pontos", … in lang.
func pts(lang string, n int64) string {
	if n == 1 || n == -1 {
		return translate(lang, "points.one", number(lang, n))
	}
	return translate(lang, "points.other", number(lang, n))
}

// signed writes a ledger amount with its sign: "+12", "-50".
func signed(lang string, n int64) string {
	if n > 0 {
		return "+" + number(lang, n)
	}
	return number(lang, n)
}

// dateTime and date show a time in the app's zone, as each language
// writes them.
func dateTime(lang string, loc *time.Location, t time.Time) string {
	t = t.In(loc)
	if lang == "en" {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("02/01/2006 15:04")
}

func date(lang string, loc *time.Location, t time.Time) string {
	t = t.In(loc)
	if lang == "en" {
		return t.Format("2006-01-02")
	}
	return t.Format("02/01/2006")
}

// roundingName names a rounding in a sentence: "arredondando para baixo".
func roundingName(lang string, r points.Rounding) string {
	return translate(lang, "r."+string(r))
}

// formatDocument shows a CPF (11 digits) or CNPJ (14 digits) with its
// punctuation; anything else as stored.
func formatDocument(d string) string {
	switch len(d) {
	case 11:
		return d[0:3] + "." + d[3:6] + "." + d[6:9] + "-" + d[9:11]
	case 14:
		return d[0:2] + "." + d[2:5] + "." + d[5:8] + "/" + d[8:12] + "-" + d[12:14]
	}
	return d
}

// centsInput writes centavos as a person types them: 1000 → "10,00".
func centsInput(c int64) string {
	return strings.TrimPrefix(points.FormatCents(c), "R$ ")
}
